<?xml version="1.0" encoding="UTF-8"?>
<!--
  Generic display of a CDA R2 document (SC.CDA/VISU.01), written for the DPI: XSLT 1.0, any CDA R2 (N1 or N3).

  * Header: title, type, dates, level, confidentiality, version and related document; patient (identity traits,
    INS with its OID and a [TEST]/[DEMO] marker for the test and demonstration authorities, other identifiers);
    authors, custodian, legal authenticator, documented acts, recipients, encounter.
  * N3 body: every section, recursively, with its title and its narrative block (paragraph, content, list, table,
    br, sub, sup, footnote, linkHtml, renderMultiMedia).
  * N1 body: a note that the PDF is shown in the PDF view.

  Untrusted input: the document's markup is never copied. Each narrative element is rebuilt as a known HTML
  element, only whitelisted attributes are carried over, and only after checking their value (numbers, a few
  keywords). No script, event or style attribute, frame, object or form is ever written; links are shown as text;
  images are only the document's own PNG, JPEG and GIF, as data: URIs. Unknown elements show their text only;
  script and style elements show nothing. The page carries its own CSS and loads nothing.
  documents/rendering.py applies it without any file or network access and sanitises the result again.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:hl7="urn:hl7-org:v3"
    exclude-result-prefixes="hl7">

  <xsl:output method="html" encoding="UTF-8" indent="no"/>
  <xsl:strip-space elements="hl7:table hl7:thead hl7:tbody hl7:tfoot hl7:tr hl7:list hl7:colgroup"/>

  <xsl:variable name="upper" select="'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"/>
  <xsl:variable name="lower" select="'abcdefghijklmnopqrstuvwxyz'"/>
  <xsl:variable name="whitespace" select="' &#9;&#10;&#13;'"/>
  <xsl:variable name="pdf-copy-section" select="'1.2.250.1.213.1.1.2.243'"/>  <!-- FR-Document-PDF-copie -->
  <xsl:variable name="base64-alphabet" select="'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='"/>

  <xsl:key name="media" match="hl7:observationMedia" use="@ID"/>
  <xsl:key name="footnote" match="hl7:footnote" use="@ID"/>

  <!-- ==================================================================================== page -->

  <xsl:template match="/">
    <xsl:apply-templates select="hl7:ClinicalDocument"/>
  </xsl:template>

  <xsl:template match="hl7:ClinicalDocument">
    <xsl:variable name="title">
      <xsl:choose>
        <xsl:when test="normalize-space(hl7:title)"><xsl:value-of select="normalize-space(hl7:title)"/></xsl:when>
        <xsl:when test="hl7:code/@displayName"><xsl:value-of select="hl7:code/@displayName"/></xsl:when>
        <xsl:otherwise>Document CDA sans titre</xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <html lang="fr">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/></title>
        <xsl:call-template name="css"/>
      </head>
      <body>
        <div class="cda-page">
          <header class="cda-header">
            <p class="cda-kicker"><xsl:apply-templates select="hl7:code" mode="coded"/></p>
            <h1><xsl:value-of select="$title"/></h1>
            <div class="cda-cards">
              <xsl:apply-templates select="hl7:recordTarget/hl7:patientRole"/>
              <xsl:call-template name="document-card"/>
              <xsl:apply-templates select="hl7:author"/>
              <xsl:apply-templates select="hl7:legalAuthenticator"/>
              <xsl:apply-templates select="hl7:custodian"/>
              <xsl:apply-templates select="hl7:componentOf/hl7:encompassingEncounter"/>
            </div>
          </header>
          <main class="cda-body">
            <xsl:apply-templates select="hl7:component/hl7:nonXMLBody"/>
            <xsl:apply-templates select="hl7:component/hl7:structuredBody/hl7:component/hl7:section"/>
          </main>
          <footer class="cda-footer">
            Document CDA R2 affiché par la feuille de style générique du DPI.
          </footer>
        </div>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="css">
    <style>
      * { box-sizing: border-box; }
      body { margin: 0; padding: 1.5rem; background: #f4f6f8; color: #1f2a37;
             font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
      .cda-page { max-width: 64rem; margin: 0 auto; }
      .cda-header, .cda-body { background: #fff; border: 1px solid #d5dde5; border-radius: 6px; }
      .cda-header { padding: 1.25rem 1.5rem; margin-bottom: 1.25rem; }
      .cda-kicker { margin: 0; color: #52606d; font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; }
      h1 { margin: .2rem 0 1rem; font-size: 1.6rem; line-height: 1.25; color: #102a43; }
      .cda-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(24rem, 1fr)); gap: .9rem; }
      .cda-card { background: #f8fafc; border-top: 3px solid #2f6fa7; border-radius: 4px; padding: .7rem .9rem; }
      .cda-card h2 { margin: 0 0 .4rem; font-size: .8rem; text-transform: uppercase; letter-spacing: .05em;
                     color: #2f6fa7; }
      .cda-card dl { margin: 0; }
      .cda-row { display: grid; grid-template-columns: 9.5rem 1fr; gap: .6rem; padding: .1rem 0; }
      .cda-row dt { color: #52606d; }
      .cda-row dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
      .cda-muted { color: #52606d; font-weight: 400; }
      .cda-badge { display: inline-block; margin-left: .35rem; padding: 0 .35rem; border-radius: 3px;
                   background: #f7c948; color: #102a43; font-size: .75rem; font-weight: 700; }
      .cda-body { padding: .25rem 1.5rem 1.5rem; }
      .cda-section h2, .cda-section h3, .cda-section h4, .cda-section h5, .cda-section h6 {
        margin: 1.3rem 0 .5rem; color: #102a43; line-height: 1.3; }
      .cda-section h2 { font-size: 1.25rem; padding-bottom: .25rem; border-bottom: 2px solid #d5dde5; }
      .cda-section h3 { font-size: 1.1rem; }
      .cda-section h4, .cda-section h5, .cda-section h6 { font-size: 1rem; }
      .cda-section .cda-section { margin-left: 1rem; }
      .cda-narrative p { margin: .4rem 0; }
      .cda-table-wrap { overflow-x: auto; margin: .5rem 0; }
      .cda-narrative table { border-collapse: collapse; min-width: 50%; }
      .cda-narrative caption { caption-side: top; text-align: left; font-weight: 600; padding: .2rem 0; }
      .cda-narrative th, .cda-narrative td { border: 1px solid #c4d0db; padding: .3rem .55rem; text-align: left;
                                            vertical-align: top; }
      .cda-narrative th { background: #eef2f6; font-weight: 600; }
      .cda-narrative ul, .cda-narrative ol { margin: .3rem 0; padding-left: 1.5rem; }
      .cda-bold { font-weight: 700; }
      .cda-italic { font-style: italic; }
      .cda-underline { text-decoration: underline; }
      .cda-emphasis { font-style: italic; font-weight: 600; }
      .cda-align-center { text-align: center !important; }
      .cda-align-right { text-align: right !important; }
      .cda-caption { display: block; font-weight: 600; margin: .4rem 0 .2rem; }
      .cda-href, .cda-unsafe-link { color: #52606d; font-size: .9em; }
      .cda-footnote-ref { color: #2f6fa7; }
      .cda-footnotes { margin: .6rem 0 0; padding: .3rem 0 0 1.5rem; border-top: 1px dashed #c4d0db;
                       font-size: .9em; color: #334e68; }
      .cda-media { display: block; margin: .4rem 0; }
      .cda-image { display: block; max-width: 100%; height: auto; border: 1px solid #d5dde5; }
      .cda-attachment { display: inline-block; padding: .15rem .5rem; border-radius: 3px; background: #e8f1fa;
                        color: #243b53; }
      .cda-note { margin: 1rem 0; padding: .7rem .9rem; border-left: 4px solid #2f6fa7; background: #e8f1fa; }
      .cda-plain-text { white-space: pre-wrap; font: inherit; }
      .cda-fallback-note { max-width: 64rem; margin: 0 auto 1rem; padding: .7rem .9rem; border-left: 4px solid #f0b429;
                           background: #fffbea; color: #513c06; }
      .cda-footer { margin-top: .9rem; text-align: center; color: #7b8794; font-size: .8rem; }
      @media print {
        body { background: #fff; padding: 0; }
        .cda-header, .cda-body { border: 0; }
      }
    </style>
  </xsl:template>

  <!-- ================================================================================== header -->

  <xsl:template match="hl7:patientRole">
    <xsl:variable name="person" select="hl7:patient"/>
    <xsl:variable name="name" select="$person/hl7:name[1]"/>
    <section class="cda-card cda-patient">
      <h2>Patient</h2>
      <dl>
        <xsl:choose>
          <xsl:when test="$name/hl7:family[contains(concat(' ', @qualifier, ' '), ' BR ')]">
            <xsl:call-template name="row">
              <xsl:with-param name="label">Nom de naissance</xsl:with-param>
              <xsl:with-param name="value" select="$name/hl7:family[contains(concat(' ', @qualifier, ' '), ' BR ')]"/>
            </xsl:call-template>
          </xsl:when>
          <xsl:otherwise>
            <xsl:call-template name="row">
              <xsl:with-param name="label">Nom</xsl:with-param>
              <xsl:with-param name="value" select="$name/hl7:family[1]"/>
            </xsl:call-template>
          </xsl:otherwise>
        </xsl:choose>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Prénom(s) de naissance</xsl:with-param>
          <xsl:with-param name="value" select="$name/hl7:given[not(normalize-space(@qualifier))][1]"/>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Premier prénom</xsl:with-param>
          <xsl:with-param name="value" select="$name/hl7:given[contains(concat(' ', @qualifier, ' '), ' BR ')]"/>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Nom utilisé</xsl:with-param>
          <xsl:with-param name="value"
              select="$name/hl7:family[contains(concat(' ', @qualifier, ' '), ' CL ')
                                       or contains(concat(' ', @qualifier, ' '), ' SP ')]"/>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Prénom utilisé</xsl:with-param>
          <xsl:with-param name="value" select="$name/hl7:given[contains(concat(' ', @qualifier, ' '), ' CL ')]"/>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Sexe</xsl:with-param>
          <xsl:with-param name="value">
            <xsl:apply-templates select="$person/hl7:administrativeGenderCode" mode="gender"/>
          </xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Date de naissance</xsl:with-param>
          <xsl:with-param name="value">
            <xsl:call-template name="date">
              <xsl:with-param name="value" select="$person/hl7:birthTime/@value"/>
            </xsl:call-template>
          </xsl:with-param>
        </xsl:call-template>
        <xsl:apply-templates select="$person/hl7:birthplace/hl7:place/hl7:addr"/>
        <xsl:apply-templates select="hl7:id" mode="patient-id"/>
      </dl>
    </section>
  </xsl:template>

  <xsl:template match="hl7:birthplace/hl7:place/hl7:addr">
    <xsl:call-template name="row">
      <xsl:with-param name="label">Lieu de naissance</xsl:with-param>
      <xsl:with-param name="value">
        <xsl:value-of select="normalize-space(hl7:city)"/>
        <xsl:if test="normalize-space(hl7:county)">
          <xsl:if test="normalize-space(hl7:city)"><xsl:text> </xsl:text></xsl:if>
          <xsl:value-of select="concat('(code INSEE ', normalize-space(hl7:county), ')')"/>
        </xsl:if>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <!-- INS: matricule, kind and OID of the assigning authority; [TEST]/[DEMO] for the test and demo authorities -->
  <xsl:template match="hl7:id" mode="patient-id">
    <xsl:variable name="kind">
      <xsl:choose>
        <xsl:when test="@root = '1.2.250.1.213.1.4.8'">INS-NIR</xsl:when>
        <xsl:when test="@root = '1.2.250.1.213.1.4.9'">INS-NIA</xsl:when>
        <xsl:when test="@root = '1.2.250.1.213.1.4.10'">INS-NIR de test</xsl:when>
        <xsl:when test="@root = '1.2.250.1.213.1.4.11'">INS-NIR de démonstration</xsl:when>
      </xsl:choose>
    </xsl:variable>
    <div class="cda-row">
      <dt>
        <xsl:choose>
          <xsl:when test="string($kind)">INS</xsl:when>
          <xsl:otherwise>Identifiant</xsl:otherwise>
        </xsl:choose>
      </dt>
      <dd>
        <xsl:value-of select="@extension"/>
        <xsl:text> </xsl:text>
        <xsl:if test="@root = '1.2.250.1.213.1.4.10'"><span class="cda-badge">[TEST]</span><xsl:text> </xsl:text></xsl:if>
        <xsl:if test="@root = '1.2.250.1.213.1.4.11'"><span class="cda-badge">[DEMO]</span><xsl:text> </xsl:text></xsl:if>
        <br/>
        <span class="cda-muted">
          <xsl:if test="string($kind)"><xsl:value-of select="concat($kind, ', ')"/></xsl:if>
          <xsl:value-of select="concat('OID ', @root)"/>
        </span>
      </dd>
    </div>
  </xsl:template>

  <xsl:template name="document-card">
    <section class="cda-card cda-document">
      <h2>Document</h2>
      <dl>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Date du document</xsl:with-param>
          <xsl:with-param name="value">
            <xsl:call-template name="date">
              <xsl:with-param name="value" select="hl7:effectiveTime/@value"/>
            </xsl:call-template>
          </xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Niveau</xsl:with-param>
          <xsl:with-param name="value">
            <xsl:choose>
              <xsl:when test="hl7:component/hl7:structuredBody">N3, document structuré</xsl:when>
              <xsl:when test="hl7:component/hl7:nonXMLBody">N1, document non structuré</xsl:when>
            </xsl:choose>
          </xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Confidentialité</xsl:with-param>
          <xsl:with-param name="value">
            <xsl:apply-templates select="hl7:confidentialityCode" mode="confidentiality"/>
          </xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Version</xsl:with-param>
          <xsl:with-param name="value" select="hl7:versionNumber/@value"/>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Identifiant</xsl:with-param>
          <xsl:with-param name="value"><xsl:apply-templates select="hl7:id" mode="instance"/></xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Lot de versions</xsl:with-param>
          <xsl:with-param name="value"><xsl:apply-templates select="hl7:setId" mode="instance"/></xsl:with-param>
        </xsl:call-template>
        <xsl:apply-templates select="hl7:relatedDocument"/>
        <xsl:apply-templates select="hl7:documentationOf/hl7:serviceEvent"/>
        <xsl:if test="hl7:informationRecipient">
          <xsl:call-template name="row">
            <xsl:with-param name="label">Destinataire(s)</xsl:with-param>
            <xsl:with-param name="value">
              <xsl:for-each select="hl7:informationRecipient/hl7:intendedRecipient">
                <xsl:if test="position() &gt; 1">, </xsl:if>
                <xsl:call-template name="party">
                  <xsl:with-param name="name" select="hl7:informationRecipient/hl7:name"/>
                  <xsl:with-param name="organization" select="hl7:receivedOrganization/hl7:name"/>
                </xsl:call-template>
              </xsl:for-each>
            </xsl:with-param>
          </xsl:call-template>
        </xsl:if>
      </dl>
    </section>
  </xsl:template>

  <xsl:template match="hl7:relatedDocument">
    <xsl:call-template name="row">
      <xsl:with-param name="label">
        <xsl:choose>
          <xsl:when test="@typeCode = 'RPLC'">Remplace le document</xsl:when>
          <xsl:when test="@typeCode = 'APND'">Complète le document</xsl:when>
          <xsl:when test="@typeCode = 'XFRM'">Transforme le document</xsl:when>
          <xsl:otherwise>Document lié</xsl:otherwise>
        </xsl:choose>
      </xsl:with-param>
      <xsl:with-param name="value">
        <xsl:apply-templates select="hl7:parentDocument/hl7:id[1]" mode="instance"/>
        <xsl:if test="hl7:parentDocument/hl7:versionNumber/@value">
          <xsl:value-of select="concat(' (version ', hl7:parentDocument/hl7:versionNumber/@value, ')')"/>
        </xsl:if>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="hl7:serviceEvent">
    <xsl:call-template name="row">
      <xsl:with-param name="label">Acte documenté</xsl:with-param>
      <xsl:with-param name="value">
        <xsl:apply-templates select="hl7:code" mode="coded"/>
        <xsl:if test="hl7:code and hl7:effectiveTime"><xsl:text>, </xsl:text></xsl:if>
        <xsl:apply-templates select="hl7:effectiveTime" mode="interval"/>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="hl7:author">
    <section class="cda-card cda-author">
      <h2>Auteur</h2>
      <dl>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Nom</xsl:with-param>
          <xsl:with-param name="value">
            <xsl:apply-templates select="hl7:assignedAuthor/hl7:assignedPerson/hl7:name" mode="person"/>
            <xsl:apply-templates select="hl7:assignedAuthor/hl7:assignedAuthoringDevice" mode="device"/>
          </xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Profession, spécialité</xsl:with-param>
          <xsl:with-param name="value"><xsl:apply-templates select="hl7:assignedAuthor/hl7:code" mode="coded"/></xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Structure</xsl:with-param>
          <xsl:with-param name="value" select="hl7:assignedAuthor/hl7:representedOrganization/hl7:name"/>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Rédigé le</xsl:with-param>
          <xsl:with-param name="value">
            <xsl:call-template name="date"><xsl:with-param name="value" select="hl7:time/@value"/></xsl:call-template>
          </xsl:with-param>
        </xsl:call-template>
      </dl>
    </section>
  </xsl:template>

  <xsl:template match="hl7:legalAuthenticator">
    <section class="cda-card cda-legal-authenticator">
      <h2>Responsable du document</h2>
      <dl>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Nom</xsl:with-param>
          <xsl:with-param name="value">
            <xsl:apply-templates select="hl7:assignedEntity/hl7:assignedPerson/hl7:name" mode="person"/>
          </xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Structure</xsl:with-param>
          <xsl:with-param name="value" select="hl7:assignedEntity/hl7:representedOrganization/hl7:name"/>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Validé le</xsl:with-param>
          <xsl:with-param name="value">
            <xsl:call-template name="date"><xsl:with-param name="value" select="hl7:time/@value"/></xsl:call-template>
          </xsl:with-param>
        </xsl:call-template>
      </dl>
    </section>
  </xsl:template>

  <xsl:template match="hl7:custodian">
    <xsl:variable name="organization" select="hl7:assignedCustodian/hl7:representedCustodianOrganization"/>
    <section class="cda-card cda-custodian">
      <h2>Structure conservant le document</h2>
      <dl>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Nom</xsl:with-param>
          <xsl:with-param name="value" select="$organization/hl7:name"/>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Identifiant</xsl:with-param>
          <xsl:with-param name="value"><xsl:apply-templates select="$organization/hl7:id[1]" mode="instance"/></xsl:with-param>
        </xsl:call-template>
      </dl>
    </section>
  </xsl:template>

  <xsl:template match="hl7:encompassingEncounter">
    <xsl:variable name="facility" select="hl7:location/hl7:healthCareFacility"/>
    <section class="cda-card cda-encounter">
      <h2>Prise en charge</h2>
      <dl>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Type</xsl:with-param>
          <xsl:with-param name="value"><xsl:apply-templates select="hl7:code" mode="coded"/></xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Période</xsl:with-param>
          <xsl:with-param name="value"><xsl:apply-templates select="hl7:effectiveTime" mode="interval"/></xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Lieu</xsl:with-param>
          <xsl:with-param name="value" select="$facility/hl7:location/hl7:name"/>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Type de structure</xsl:with-param>
          <xsl:with-param name="value"><xsl:apply-templates select="$facility/hl7:code" mode="coded"/></xsl:with-param>
        </xsl:call-template>
        <xsl:call-template name="row">
          <xsl:with-param name="label">Structure</xsl:with-param>
          <xsl:with-param name="value" select="$facility/hl7:serviceProviderOrganization/hl7:name"/>
        </xsl:call-template>
      </dl>
    </section>
  </xsl:template>

  <!-- ========================================================================= header helpers -->

  <!-- One line of a card; nothing at all when the value is empty. -->
  <xsl:template name="row">
    <xsl:param name="label"/>
    <xsl:param name="value"/>
    <xsl:if test="normalize-space($value)">
      <div class="cda-row">
        <dt><xsl:value-of select="$label"/></dt>
        <dd><xsl:value-of select="normalize-space($value)"/></dd>
      </div>
    </xsl:if>
  </xsl:template>

  <!-- A coded value: its display name, then its code. -->
  <xsl:template match="*" mode="coded">
    <xsl:choose>
      <xsl:when test="normalize-space(@displayName) and normalize-space(@code)">
        <xsl:value-of select="concat(normalize-space(@displayName), ' (', normalize-space(@code), ')')"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="normalize-space(concat(@displayName, ' ', @code))"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="*" mode="gender">
    <xsl:choose>
      <xsl:when test="@code = 'F'">Féminin</xsl:when>
      <xsl:when test="@code = 'M'">Masculin</xsl:when>
      <xsl:when test="@code = 'U'">Inconnu</xsl:when>
      <xsl:otherwise><xsl:value-of select="normalize-space(concat(@displayName, ' ', @code))"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="*" mode="confidentiality">
    <xsl:choose>
      <xsl:when test="@code = 'N'">Normale</xsl:when>
      <xsl:when test="@code = 'R'">Restreinte</xsl:when>
      <xsl:when test="@code = 'V'">Très restreinte</xsl:when>
      <xsl:otherwise><xsl:apply-templates select="." mode="coded"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- An instance identifier: extension (OID root), or the root alone. -->
  <xsl:template match="*" mode="instance">
    <xsl:choose>
      <xsl:when test="normalize-space(@extension)">
        <xsl:value-of select="concat(normalize-space(@extension), ' (OID ', normalize-space(@root), ')')"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="normalize-space(@root)"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- A professional's name: Dr/Pr, given names, family name; or the unstructured name. -->
  <xsl:template match="hl7:name" mode="person">
    <xsl:choose>
      <xsl:when test="hl7:family or hl7:given">
        <xsl:for-each select="hl7:suffix | hl7:prefix">
          <xsl:choose>
            <xsl:when test="translate(normalize-space(.), $lower, $upper) = 'DR'">Dr </xsl:when>
            <xsl:when test="translate(normalize-space(.), $lower, $upper) = 'PR'">Pr </xsl:when>
          </xsl:choose>
        </xsl:for-each>
        <xsl:for-each select="hl7:given">
          <xsl:value-of select="concat(normalize-space(.), ' ')"/>
        </xsl:for-each>
        <xsl:for-each select="hl7:family">
          <xsl:value-of select="concat(normalize-space(.), ' ')"/>
        </xsl:for-each>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="normalize-space(.)"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="hl7:assignedAuthoringDevice" mode="device">
    <xsl:value-of select="concat('Logiciel ', normalize-space(hl7:softwareName), ' ', normalize-space(hl7:manufacturerModelName))"/>
  </xsl:template>

  <xsl:template name="party">
    <xsl:param name="name"/>
    <xsl:param name="organization"/>
    <xsl:apply-templates select="$name" mode="person"/>
    <xsl:if test="$name and normalize-space($organization)"><xsl:text> – </xsl:text></xsl:if>
    <xsl:value-of select="normalize-space($organization)"/>
  </xsl:template>

  <!-- A CDA date (YYYYMMDD[HHMM[SS]][+ZZZZ]) as "28/03/1979" or "03/12/2019 à 13:30". -->
  <xsl:template name="date">
    <xsl:param name="value"/>
    <xsl:variable name="v" select="normalize-space($value)"/>
    <xsl:choose>
      <xsl:when test="string-length($v) &gt;= 8 and translate(substring($v, 1, 8), '0123456789', '') = ''">
        <xsl:value-of select="concat(substring($v, 7, 2), '/', substring($v, 5, 2), '/', substring($v, 1, 4))"/>
        <xsl:if test="string-length($v) &gt;= 12 and translate(substring($v, 9, 4), '0123456789', '') = ''">
          <xsl:value-of select="concat(' à ', substring($v, 9, 2), ':', substring($v, 11, 2))"/>
        </xsl:if>
      </xsl:when>
      <xsl:when test="string-length($v) = 6 and translate($v, '0123456789', '') = ''">
        <xsl:value-of select="concat(substring($v, 5, 2), '/', substring($v, 1, 4))"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$v"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="*" mode="interval">
    <xsl:variable name="low">
      <xsl:call-template name="date"><xsl:with-param name="value" select="hl7:low/@value"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="high">
      <xsl:call-template name="date"><xsl:with-param name="value" select="hl7:high/@value"/></xsl:call-template>
    </xsl:variable>
    <xsl:choose>
      <xsl:when test="@value">
        <xsl:text>le </xsl:text>
        <xsl:call-template name="date"><xsl:with-param name="value" select="@value"/></xsl:call-template>
      </xsl:when>
      <xsl:when test="string($low) and string($high)"><xsl:value-of select="concat('du ', $low, ' au ', $high)"/></xsl:when>
      <xsl:when test="string($low)"><xsl:value-of select="concat('depuis le ', $low)"/></xsl:when>
      <xsl:when test="string($high)"><xsl:value-of select="concat('jusqu’au ', $high)"/></xsl:when>
    </xsl:choose>
  </xsl:template>

  <!-- ==================================================================================== body -->

  <xsl:template match="hl7:nonXMLBody">
    <xsl:variable name="type" select="translate(normalize-space(hl7:text/@mediaType), $upper, $lower)"/>
    <section class="cda-section cda-non-xml-body">
      <h2>Contenu du document</h2>
      <xsl:choose>
        <xsl:when test="$type = 'application/pdf'">
          <p class="cda-note">
            Document non structuré (CDA de niveau 1) : son contenu est un PDF, affiché dans la vue PDF.
          </p>
        </xsl:when>
        <xsl:when test="($type = 'text/plain' or $type = '')
                        and translate(hl7:text/@representation, $lower, $upper) != 'B64'
                        and not(hl7:text/hl7:reference)">
          <div class="cda-plain-text"><xsl:value-of select="hl7:text"/></div>
        </xsl:when>
        <xsl:otherwise>
          <p class="cda-note">
            <xsl:value-of select="concat('Document non structuré de type « ', $type, ' » : son contenu n’est pas affiché ici.')"/>
          </p>
        </xsl:otherwise>
      </xsl:choose>
    </section>
  </xsl:template>

  <xsl:template match="hl7:section">
    <xsl:variable name="depth" select="count(ancestor::hl7:section)"/>
    <section class="cda-section">
      <xsl:element name="{concat('h', 2 + ($depth &gt; 0) + ($depth &gt; 1) + ($depth &gt; 2) + ($depth &gt; 3))}">
        <xsl:choose>
          <xsl:when test="normalize-space(hl7:title)"><xsl:value-of select="normalize-space(hl7:title)"/></xsl:when>
          <xsl:when test="normalize-space(hl7:code/@displayName)"><xsl:value-of select="hl7:code/@displayName"/></xsl:when>
          <xsl:otherwise>Section sans titre</xsl:otherwise>
        </xsl:choose>
      </xsl:element>
      <xsl:apply-templates select="hl7:text"/>
      <xsl:apply-templates select="hl7:component/hl7:section"/>
    </section>
  </xsl:template>

  <xsl:template match="hl7:section/hl7:text">
    <div class="cda-narrative">
      <xsl:apply-templates mode="narrative"/>
      <xsl:if test=".//hl7:footnote">
        <ol class="cda-footnotes">
          <xsl:for-each select=".//hl7:footnote">
            <li><xsl:apply-templates mode="narrative"/></li>
          </xsl:for-each>
        </ol>
      </xsl:if>
    </div>
  </xsl:template>

  <!-- ====================================================================== narrative block -->

  <!-- Unknown element: its text only, never its markup. Scripts and styles: nothing. -->
  <xsl:template match="*" mode="narrative">
    <xsl:apply-templates mode="narrative"/>
  </xsl:template>

  <xsl:template match="*[translate(local-name(), 'SCRIPTYLE', 'scriptyle') = 'script'
                         or translate(local-name(), 'SCRIPTYLE', 'scriptyle') = 'style']" mode="narrative"/>

  <xsl:template match="hl7:paragraph" mode="narrative">
    <p><xsl:call-template name="classes"/><xsl:apply-templates mode="narrative"/></p>
  </xsl:template>

  <xsl:template match="hl7:content" mode="narrative">
    <xsl:choose>
      <xsl:when test="@revised = 'delete'">
        <del><xsl:call-template name="classes"/><xsl:apply-templates mode="narrative"/></del>
      </xsl:when>
      <xsl:when test="@revised = 'insert'">
        <ins><xsl:call-template name="classes"/><xsl:apply-templates mode="narrative"/></ins>
      </xsl:when>
      <xsl:otherwise>
        <span><xsl:call-template name="classes"/><xsl:apply-templates mode="narrative"/></span>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="hl7:br" mode="narrative"><br/></xsl:template>
  <xsl:template match="hl7:sub" mode="narrative"><sub><xsl:apply-templates mode="narrative"/></sub></xsl:template>
  <xsl:template match="hl7:sup" mode="narrative"><sup><xsl:apply-templates mode="narrative"/></sup></xsl:template>

  <!-- A link is shown as text with its address; an address that could run code is not even shown. -->
  <xsl:template match="hl7:linkHtml" mode="narrative">
    <xsl:variable name="href" select="translate(translate(@href, $whitespace, ''), $upper, $lower)"/>
    <span class="cda-link"><xsl:call-template name="classes"/><xsl:apply-templates mode="narrative"/></span>
    <xsl:choose>
      <xsl:when test="starts-with($href, 'javascript:') or starts-with($href, 'vbscript:') or starts-with($href, 'data:')">
        <span class="cda-unsafe-link"> (lien non affiché)</span>
      </xsl:when>
      <xsl:when test="normalize-space(@href) and not(starts-with($href, '#'))">
        <span class="cda-href"><xsl:value-of select="concat(' (lien : ', normalize-space(@href), ')')"/></span>
      </xsl:when>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="hl7:list" mode="narrative">
    <div class="cda-list">
      <xsl:apply-templates select="hl7:caption" mode="narrative"/>
      <xsl:choose>
        <xsl:when test="@listType = 'ordered'">
          <ol>
            <xsl:call-template name="ordered-list-type"/>
            <xsl:call-template name="classes"/>
            <xsl:apply-templates select="hl7:item" mode="narrative"/>
          </ol>
        </xsl:when>
        <xsl:otherwise>
          <ul><xsl:call-template name="classes"/><xsl:apply-templates select="hl7:item" mode="narrative"/></ul>
        </xsl:otherwise>
      </xsl:choose>
    </div>
  </xsl:template>

  <xsl:template name="ordered-list-type">
    <xsl:variable name="style" select="translate(@styleCode, $upper, $lower)"/>
    <xsl:choose>
      <xsl:when test="contains($style, 'littleroman')"><xsl:attribute name="type">i</xsl:attribute></xsl:when>
      <xsl:when test="contains($style, 'bigroman')"><xsl:attribute name="type">I</xsl:attribute></xsl:when>
      <xsl:when test="contains($style, 'littlealpha')"><xsl:attribute name="type">a</xsl:attribute></xsl:when>
      <xsl:when test="contains($style, 'bigalpha')"><xsl:attribute name="type">A</xsl:attribute></xsl:when>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="hl7:item" mode="narrative">
    <li><xsl:call-template name="classes"/><xsl:apply-templates mode="narrative"/></li>
  </xsl:template>

  <xsl:template match="hl7:caption" mode="narrative">
    <span class="cda-caption"><xsl:apply-templates mode="narrative"/></span>
  </xsl:template>

  <xsl:template match="hl7:table" mode="narrative">
    <div class="cda-table-wrap">
      <table><xsl:call-template name="classes"/><xsl:apply-templates mode="narrative"/></table>
    </div>
  </xsl:template>

  <xsl:template match="hl7:table/hl7:caption" mode="narrative">
    <caption><xsl:apply-templates mode="narrative"/></caption>
  </xsl:template>

  <xsl:template match="hl7:colgroup | hl7:col" mode="narrative"/>

  <xsl:template match="hl7:thead | hl7:tbody | hl7:tfoot | hl7:tr" mode="narrative">
    <xsl:element name="{local-name()}">
      <xsl:call-template name="classes"/>
      <xsl:apply-templates mode="narrative"/>
    </xsl:element>
  </xsl:template>

  <xsl:template match="hl7:th | hl7:td" mode="narrative">
    <xsl:element name="{local-name()}">
      <xsl:call-template name="classes"/>
      <xsl:for-each select="@colspan | @rowspan">
        <xsl:if test="translate(., '0123456789', '') = '' and string-length(.) &lt; 4 and number(.) &gt; 0">
          <xsl:attribute name="{local-name()}"><xsl:value-of select="number(.)"/></xsl:attribute>
        </xsl:if>
      </xsl:for-each>
      <xsl:if test="@scope = 'row' or @scope = 'col' or @scope = 'rowgroup' or @scope = 'colgroup'">
        <xsl:attribute name="scope"><xsl:value-of select="@scope"/></xsl:attribute>
      </xsl:if>
      <xsl:apply-templates mode="narrative"/>
    </xsl:element>
  </xsl:template>

  <!-- Footnotes: a number here, the text at the end of the section's narrative (numbered per narrative block). -->
  <xsl:template match="hl7:footnote" mode="narrative">
    <sup class="cda-footnote-ref">
      <xsl:number level="any" count="hl7:footnote" from="hl7:section/hl7:text" format="[1]"/>
    </sup>
  </xsl:template>

  <xsl:template match="hl7:footnoteRef" mode="narrative">
    <xsl:for-each select="key('footnote', @IDREF)[1]">
      <sup class="cda-footnote-ref">
        <xsl:number level="any" count="hl7:footnote" from="hl7:section/hl7:text" format="[1]"/>
      </sup>
    </xsl:for-each>
  </xsl:template>

  <!-- The styleCode keywords we render, and a table cell's alignment, as classes of our CSS. -->
  <xsl:template name="classes">
    <xsl:variable name="style" select="translate(@styleCode, $upper, $lower)"/>
    <xsl:variable name="align" select="translate(normalize-space(@align), $upper, $lower)"/>
    <xsl:variable name="classes" select="normalize-space(concat(
        substring(' cda-bold', 1, 9 * contains($style, 'bold')),
        substring(' cda-italic', 1, 11 * contains($style, 'italic')),
        substring(' cda-underline', 1, 14 * contains($style, 'underline')),
        substring(' cda-emphasis', 1, 13 * contains($style, 'emphasis')),
        substring(concat(' cda-align-', $align), 1, 20 * ($align = 'center' or $align = 'right'))))"/>
    <xsl:if test="$classes">
      <xsl:attribute name="class"><xsl:value-of select="$classes"/></xsl:attribute>
    </xsl:if>
  </xsl:template>

  <!-- ============================================================================ multimedia -->

  <xsl:template match="hl7:renderMultiMedia" mode="narrative">
    <span class="cda-media">
      <xsl:call-template name="media">
        <xsl:with-param name="references" select="normalize-space(@referencedObject)"/>
      </xsl:call-template>
      <xsl:apply-templates select="hl7:caption" mode="narrative"/>
    </span>
  </xsl:template>

  <!-- referencedObject is a list of IDs (IDREFS): one media per ID. -->
  <xsl:template name="media">
    <xsl:param name="references"/>
    <xsl:if test="$references">
      <xsl:variable name="reference" select="substring-before(concat($references, ' '), ' ')"/>
      <xsl:variable name="media" select="key('media', $reference)[1]"/>
      <xsl:choose>
        <xsl:when test="$media"><xsl:apply-templates select="$media" mode="media"/></xsl:when>
        <xsl:otherwise>
          <span class="cda-attachment">
            <xsl:value-of select="concat('Pièce jointe introuvable (référence « ', $reference, ' »)')"/>
          </span>
        </xsl:otherwise>
      </xsl:choose>
      <xsl:call-template name="media">
        <xsl:with-param name="references" select="substring-after($references, ' ')"/>
      </xsl:call-template>
    </xsl:if>
  </xsl:template>

  <xsl:template match="hl7:observationMedia" mode="media">
    <xsl:variable name="type" select="translate(normalize-space(hl7:value/@mediaType), $upper, $lower)"/>
    <xsl:variable name="data">
      <xsl:for-each select="hl7:value/text()"><xsl:value-of select="translate(., $whitespace, '')"/></xsl:for-each>
    </xsl:variable>
    <xsl:variable name="inline-base64"
        select="translate(hl7:value/@representation, $lower, $upper) = 'B64' and not(hl7:value/hl7:reference)
                and string($data) and translate($data, $base64-alphabet, '') = ''"/>
    <xsl:choose>
      <xsl:when test="$type = 'application/pdf' and ancestor::hl7:section[1]/hl7:templateId/@root = $pdf-copy-section">
        <span class="cda-attachment">Document PDF joint : copie du document, affichée dans la vue PDF.</span>
      </xsl:when>
      <xsl:when test="$type = 'application/pdf'">
        <span class="cda-attachment">Document PDF joint, non affiché ici.</span>
      </xsl:when>
      <xsl:when test="($type = 'image/png' or $type = 'image/jpeg' or $type = 'image/gif') and $inline-base64">
        <img class="cda-image" alt="Image jointe au document" src="{concat('data:', $type, ';base64,', $data)}"/>
      </xsl:when>
      <xsl:otherwise>
        <span class="cda-attachment">
          <xsl:value-of select="concat('Pièce jointe de type « ', $type, ' » : non affichée ici.')"/>
        </span>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

</xsl:stylesheet>
